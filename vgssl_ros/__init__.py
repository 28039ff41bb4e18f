"""vgssl_ros: the runtime side of vgssl (map building, localizer node, evaluation, simulation).

It never imports torch or vgssl_train: the contract with the trainer is files (model.onnx, map/).
"""
