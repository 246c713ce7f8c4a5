from govshare.catalog.enums import ChangeRequestStatus, ExtensionStatus, OpenType, Sensitivity, ShareType, label


def test_labels_of_values_shared_by_several_vocabularies_do_not_collide() -> None:
    assert label(ShareType.none) == "不予共享"
    assert label(Sensitivity.none) == "无"
    assert label(ExtensionStatus.none) == "未申请"
    assert label(OpenType.open) == "无条件开放"
    assert label(ChangeRequestStatus.open) == "待提交"
    assert label("none", "Sensitivity") == "无"
    assert label("open", ChangeRequestStatus) == "待提交"
    assert label("none") == "不予共享"
    assert label(None) == ""
    assert label("unknown-value") == "unknown-value"
