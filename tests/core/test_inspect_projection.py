"""What the network learned (core.inspect.projection): the test set from the last hidden layer in 2-D."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

from core.datasets import load_dataset
from core.inspect.nodes import InspectError
from core.inspect.projection import project_split
from core.training import Trainer
from tests.core.train_fixtures import example

pytestmark = pytest.mark.slow  # trains the digits MLP


@pytest.fixture(scope="module")
def trained():
    project = example("digits_mlp", epochs=5)
    data = load_dataset("digits", input_shape=(1, 8, 8))
    trainer = Trainer(project, data=data, save=False)
    assert trainer.run().status == "finished"
    return project, trainer.model, data


def test_pca_of_the_last_hidden_layer_with_labels_and_wrong_flags(trained) -> None:
    project, model, data = trained
    shown = project_split(project, model, data)
    n = len(data.x_test)
    assert shown.points.shape == (n, 2) and shown.method == "PCA"
    assert shown.layer == "fc2" and shown.features == 128  # the head's input: relu1's 128 units
    model.eval()
    with torch.no_grad():  # the same numbers by hand: fc2's input, and the predictions
        hidden = model.relu1(model.fc1(model.flatten(data.x_test)))
        predicted = model(data.x_test).argmax(1)
    expected = PCA(n_components=2, random_state=0).fit_transform(hidden.numpy())
    np.testing.assert_allclose(shown.points, expected, rtol=1e-3, atol=1e-3)
    assert (shown.labels == data.y_test.numpy()).all()
    assert (shown.wrong == (predicted != data.y_test).numpy()).all()
    assert 0 < shown.wrong.sum() < n / 2  # a few mistakes, marked
    assert shown.explained[0] >= shown.explained[1] > 0
    # classes form groups: a point's nearest neighbour in 2-D mostly has its class (chance is 10 %)
    distances = np.linalg.norm(shown.points[:, None] - shown.points[None], axis=2)
    np.fill_diagonal(distances, np.inf)
    assert (shown.labels[distances.argmin(1)] == shown.labels).mean() > 0.5


def test_tsne_on_request_and_plain_errors(trained) -> None:
    project, model, data = trained
    model.train()
    shown = project_split(project, model, data, method="tsne", limit=150)
    assert shown.points.shape == (150, 2) and shown.method == "t-SNE" and (shown.indices == np.arange(150)).all()
    assert model.training  # put back in training mode after the pass
    with pytest.raises(InspectError, match="pca or tsne"):
        project_split(project, model, data, method="umap")
