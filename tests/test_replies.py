import pytest

from groupdesk.messaging.replies import ApprovalReply, SurveyReply, parse_reply


@pytest.mark.parametrize("text,expected", [
    ("1 482913", ApprovalReply("482913", True)),
    ("Y 4829", ApprovalReply("4829", True)),
    ("同意 48291377", ApprovalReply("48291377", True)),
    (" yes   482913 ", ApprovalReply("482913", True)),
    ("2 482913 现场可控", ApprovalReply("482913", False, "现场可控")),
    ("N 482913 not needed", ApprovalReply("482913", False, "not needed")),
    ("不同意 482913", ApprovalReply("482913", False, "")),
    ("5", SurveyReply(5)),
    ("4 处理及时,谢谢", SurveyReply(4, "处理及时,谢谢")),
    ("3分", SurveyReply(3)),
    ("1 123", SurveyReply(1, "123")),  # three digits is no approval code
    ("6", None), ("同意", None), ("hello", None), ("", None), ("1 1234567890", SurveyReply(1, "1234567890")),
])
def test_parse_reply(text, expected):
    assert parse_reply(text) == expected
