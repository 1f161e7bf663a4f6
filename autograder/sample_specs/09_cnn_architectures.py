"""Sample submissions of 09_cnn_architectures, built by ``autograder/build_samples.py`` from the student notebook.

Each sample says how the student's answer cells are filled, and the score it must get (20 points in all:
layer and network costs 6, receptive fields 3, depthwise-separable convolutions 2, residual networks 9).
"""

PARAMS_WITHOUT_BIASES = '''def conv_layer_cost(input_shape, filter_size, num_filters, stride=1, pad=0):
    """Counts the weights but forgets the K biases."""
    H, W, C = input_shape
    sizes = []
    for n in (H, W):
        span = n - filter_size + 2 * pad
        if span < 0 or span % stride:
            raise ValueError(f"F={filter_size}, S={stride}, P={pad} do not tile {H}x{W}")
        sizes.append(span // stride + 1)
    out_h, out_w = sizes
    weights = filter_size * filter_size * C * num_filters
    return {"output_shape": (out_h, out_w, num_filters), "params": weights,
            "multiply_adds": out_h * out_w * weights, "activations": out_h * out_w * num_filters}
'''

RECEPTIVE_FIELD_WITHOUT_JUMP = '''def receptive_field(layers):
    """Adds F - 1 pixels per layer whatever the strides below: right for stride-1 stacks only."""
    size, jump, out = 1, 1, []
    for layer in layers:
        if layer[0] == "conv":
            F, S = layer[1], layer[3]
        elif layer[0] == "pool":
            F, S = layer[1], layer[2]
        else:
            raise ValueError(f"not a conv or pool layer: {layer!r}")
        size += F - 1
        jump *= S
        out.append((size, jump))
    return out
'''

RELU_BEFORE_ADD = '''def residual_block(x, filters, stride=1):
    """Applies the last ReLU to the residual branch, before the addition: the block cannot output ReLU(x)."""
    y = keras.layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
    y = keras.layers.BatchNormalization(momentum=0.9)(y)
    y = keras.layers.ReLU()(y)
    y = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = keras.layers.BatchNormalization(momentum=0.9)(y)
    y = keras.layers.ReLU()(y)
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = keras.layers.Conv2D(filters, 1, strides=stride, use_bias=False)(x)
    return keras.layers.Add()([y, shortcut])
'''

SEPARABLE_WITH_TWO_BIASES = '''def depthwise_separable_param_count(filter_size, in_channels, out_channels):
    """Gives the depthwise convolution biases too (Keras' SeparableConv2D has only the pointwise ones)."""
    depthwise = filter_size * filter_size * in_channels + in_channels
    pointwise = in_channels * out_channels + out_channels
    return depthwise + pointwise
'''

SAMPLES = {
    "correct": dict(answers="solution", score=20),
    "untouched": dict(answers=None, score=0),
    "params_without_biases": dict(
        answers="solution", replace={"conv_layer_cost": PARAMS_WITHOUT_BIASES}, score=14,
        why="conv_layer_cost forgets the biases: its visible (1) and hidden (2) tests fail, and network_cost, "
            "which calls it, fails its LeNet test (1) and hidden comparison with Keras (2)"),
    "receptive_field_without_jump": dict(
        answers="solution", replace={"receptive_field": RECEPTIVE_FIELD_WITHOUT_JUMP}, score=17,
        why="receptive_field ignores the strides below a layer: its stride-1 visible test runs, but the hidden "
            "comparison with the gradient (2) fails, and a visible test counts only for a function the hidden "
            "test confirms (1)"),
    "relu_before_add": dict(
        answers="solution", replace={"residual_block": RELU_BEFORE_ADD}, score=17,
        why="residual_block puts the ReLU before the addition: its visible test (ReLU(x) when F(x) = 0, 1) and "
            "hidden comparison (2) fail; build_resnet, still a working network, passes"),
    "separable_with_two_biases": dict(
        answers="solution", replace={"depthwise_separable_param_count": SEPARABLE_WITH_TWO_BIASES}, score=18,
        why="depthwise_separable_param_count counts biases on the depthwise convolution: its visible (1) and "
            "hidden (1) tests fail"),
}
