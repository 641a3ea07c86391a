import numpy as np
import pytest

from liveness.evaluate.metrics import apcer, auc, bpcer, eer


def test_hand_computed_rates():
    real = np.array([0.9, 0.8, 0.4, 0.7])
    attack = np.array([0.1, 0.6, 0.2, 0.5, 0.3])
    assert bpcer(real, 0.5) == pytest.approx(1 / 4)
    assert apcer(attack, 0.5) == pytest.approx(2 / 5)
    assert apcer(attack, 0.6) == pytest.approx(1 / 5)  # a tie counts as accepted


def test_empty_classes_give_none():
    assert apcer(np.array([]), 0.5) is None
    assert bpcer(np.array([]), 0.5) is None
    assert eer(np.array([True, True]), np.array([0.2, 0.3])) is None
    assert auc(np.array([False]), np.array([0.2])) is None


def test_eer_separable_and_all_equal():
    is_real = np.array([True, True, False, False])
    rate, threshold = eer(is_real, np.array([0.9, 0.8, 0.2, 0.1]))
    assert rate == 0.0 and 0.2 < threshold <= 0.8
    rate, _ = eer(is_real, np.full(4, 0.5))
    assert rate == pytest.approx(0.5)
    assert auc(is_real, np.full(4, 0.5)) == pytest.approx(0.5)


def test_eer_threshold_is_the_middle_of_the_margin():
    is_real = np.array([True, True, False, False])
    rate, threshold = eer(is_real, np.array([0.9, 0.8, 0.2, 0.1]))
    assert rate == 0.0 and threshold == pytest.approx(0.5)


def test_eer_with_overlap_hand_computed():
    # real: .9 .6 .4 ; attack: .7 .3 .2  -> at t in (.4, .6]: BPCER 1/3, APCER 1/3
    is_real = np.array([True, True, True, False, False, False])
    scores = np.array([0.9, 0.6, 0.4, 0.7, 0.3, 0.2])
    rate, threshold = eer(is_real, scores)
    assert rate == pytest.approx(1 / 3)
    assert 0.4 < threshold <= 0.6
    assert apcer(scores[~is_real], threshold) == pytest.approx(1 / 3)
    assert bpcer(scores[is_real], threshold) == pytest.approx(1 / 3)


def test_rates_at_fixed_operating_points_hand_computed():
    from liveness.evaluate.metrics import apcer_at_bpcer, bpcer_at_apcer

    # 4 real: .9 .8 .6 .3 ; 4 attacks: .7 .4 .2 .1
    is_real = np.array([True] * 4 + [False] * 4)
    scores = np.array([0.9, 0.8, 0.6, 0.3, 0.7, 0.4, 0.2, 0.1])
    # APCER 0 needs t > .7: real .9 .8 pass -> BPCER 2/4
    assert bpcer_at_apcer(is_real, scores, 0.0) == pytest.approx(0.5)
    # APCER <= 1/4 allows t in (.4, .7]: BPCER 1/4 at t = .6
    assert bpcer_at_apcer(is_real, scores, 0.25) == pytest.approx(0.25)
    # BPCER 0 needs t <= .3: attacks .7 .4 pass -> APCER 2/4
    assert apcer_at_bpcer(is_real, scores, 0.0) == pytest.approx(0.5)
    assert bpcer_at_apcer(np.array([True, True]), np.array([0.1, 0.2]), 0.05) is None
