"""Code generation: the model class, the training script and its loop, clean names, the Keras variants."""
