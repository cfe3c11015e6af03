"""The shipped weights: they load (sha256-checked), and they do the job the model card claims."""

import pytest
import torch

from semantic_inpaint import complete, load_pretrained, masks
from semantic_inpaint.data import load_images
from semantic_inpaint.metrics import psnr
from semantic_inpaint.models.weights import WEIGHT_SETS


@pytest.fixture(scope="module")
def shipped():
    return load_pretrained("synthetic", device="cpu")


@pytest.fixture(scope="module", params=WEIGHT_SETS)
def each_set(request, faces):
    """Each shipped weight set with four held-out faces of its own kind (never trained on)."""
    held_out = load_images("celeba-mini:test", n=4) if request.param == "celeba" else faces
    return load_pretrained(request.param, device="cpu"), held_out


@torch.no_grad()
def test_discriminator_ranks_whole_faces_above_damaged_ones(each_set):
    models, faces = each_set
    x = torch.from_numpy(faces).permute(0, 3, 1, 2).float().div(127.5).sub(1)
    d = models.discriminator
    whole = torch.sigmoid(d(x))
    holed = torch.sigmoid(d(x * masks.centre()))
    assert (whole > holed).all()  # every face, not only on average
    assert whole.mean() > 10 * holed.mean()


@torch.no_grad()
def test_generator_draws_from_uniform_z(each_set):
    z = torch.rand(8, 100, generator=torch.Generator().manual_seed(0)) * 2 - 1
    x = each_set[0].generator(z)
    assert x.shape == (8, 3, 64, 64) and x.min() >= -1 and x.max() <= 1
    assert x.std(0).mean() > 0.1  # different z, different faces (no collapse)


@pytest.mark.slow
def test_centre_completion_of_held_out_faces(faces):
    """Centre hole, yeh2017, at reduced settings (K = 16, 300 iterations): the model card
    reports 30.8 dB mean whole-image PSNR on 256 held-out faces at the full settings, and an
    earlier version 28.9 dB on 16 faces at these; each of these four must beat the thesis's
    CelebA mean (21.1 dB)."""
    r = complete(faces, "centre", preset="yeh2017", models=load_pretrained("synthetic"), candidates=16, iterations=300, device="cpu")
    truth = torch.from_numpy(faces).permute(0, 3, 1, 2).float() / 255
    assert (psnr(r.images, truth) > 21.1).all()


@pytest.fixture(scope="module")
def landmark_net():
    from semantic_inpaint.models import load_landmark_net

    return load_landmark_net(device="cpu")


@torch.no_grad()
def test_landmark_net_agrees_with_dlib(landmark_net, faces):
    """The model card reports 1.8 - 2.8 px mean point error against dlib on 256 held-out faces
    by mask; on these four, with and without the centre hole, it must stay within 3.5 px."""
    from semantic_inpaint.losses.landmarks import LandmarkDetector, masked_frames
    from semantic_inpaint.viz import from_uint8

    x = from_uint8(faces)
    for m in (torch.ones(64, 64), masks.centre()):
        frames = masked_frames(x, m.expand(len(x), 1, 64, 64))
        truth = torch.from_numpy(LandmarkDetector()(frames)).float()
        error = (landmark_net(from_uint8(frames)) - truth).norm(dim=-1).mean()
        assert error < 3.5


def test_soft_loss_gradient_on_the_shipped_models(shipped, landmark_net, faces):
    """On a real face with a centre hole, the soft landmark loss of G's candidates has a
    gradient in z, and a step against it lowers the loss."""
    from semantic_inpaint.losses.soft_landmarks import masked_points, soft_landmark_loss
    from semantic_inpaint.viz import from_uint8

    mask = masks.centre().expand(8, 1, 64, 64)
    with torch.no_grad():
        reference = masked_points(landmark_net, from_uint8(faces[:1]), mask[:1])
    z = (torch.rand(8, 100, generator=torch.Generator().manual_seed(0)) * 2 - 1).requires_grad_(True)

    def loss_at(zz):
        return soft_landmark_loss(masked_points(landmark_net, shipped.generator(zz), mask), reference).sum()

    loss = loss_at(z)
    (grad,) = torch.autograd.grad(loss, z)
    assert grad.norm() > 0.1
    with torch.no_grad():
        assert loss_at(z - 1e-2 * grad / grad.norm()) < loss


@pytest.mark.slow
def test_celeba_set_beats_tv_on_unseen_real_faces():
    """The celeba card reports yeh2017 above TV on the 100 celeba-mini test faces (centre hole,
    K = 16, 300 iterations); on the first eight of them the mean must be above TV's too."""
    from semantic_inpaint.baselines import inpaint

    faces = load_images("celeba-mini:test", n=8)
    truth = torch.from_numpy(faces).permute(0, 3, 1, 2).float() / 255
    r = complete(faces, "centre", preset="yeh2017", models=load_pretrained("celeba"), candidates=16, iterations=300, device="cpu")
    assert psnr(r.images, truth).mean() > psnr(inpaint("tv", truth, "centre"), truth).mean()


@torch.no_grad()
def test_the_celeba_encoder_belongs_to_its_generator_and_guesses_better_than_noise():
    """Each shipped encoder loads for its own generator only, and the celeba one's guess for 4
    unseen faces with a centre hole is closer to each face than G at a uniform z is."""
    from semantic_inpaint.errors import WeightsError
    from semantic_inpaint.models.dcgan import sample_z
    from semantic_inpaint.models.weights import load_encoder

    models = load_pretrained("celeba", device="cpu")
    encoder = load_encoder(models.generator, device="cpu")
    synthetic = load_pretrained("synthetic", device="cpu").generator
    assert load_encoder(synthetic, device="cpu").width == encoder.width  # found in its own set
    with pytest.raises(WeightsError, match="trained for another generator"):
        load_encoder(synthetic, "celeba", device="cpu")
    faces = load_images("celeba-mini:test", n=4)
    x = torch.from_numpy(faces).permute(0, 3, 1, 2).float().div(127.5).sub(1)
    m = masks.centre()[None, None].expand(4, 1, 64, 64)
    g = models.generator
    guessed = psnr((g(encoder(x, m)) + 1) / 2, (x + 1) / 2)
    noise = psnr((g(sample_z(4, g.z_dim, torch.Generator().manual_seed(0))) + 1) / 2, (x + 1) / 2)
    assert (guessed > noise).all() and (guessed - noise).mean() > 3  # measured: +2.3 to +8.6 dB
