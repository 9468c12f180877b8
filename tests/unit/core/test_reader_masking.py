"""What a read-only viewer of the console sees of an attribute's value (``outputs.shown_to_reader``)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ksserver.outputs import MASK, shown_to_reader


def test_a_secret_name_masks_the_whole_value_and_a_url_hides_only_its_password():
    assert shown_to_reader("bmc_password", "hunter22") == MASK
    assert shown_to_reader("Dhcp_HostsDatabase", "postgresql://kea:pw@127.0.0.1:5432/kea") == (
        f"postgresql://kea:{MASK}@127.0.0.1:5432/kea")
    assert shown_to_reader("Dhcp_HostsDatabase", "postgresql://kea@/kea?host=/run/postgresql") == (
        "postgresql://kea@/kea?host=/run/postgresql")  # no password: nothing to hide
    assert shown_to_reader("Kickstart_PublicHostname", "frontend.local") == "frontend.local"
    assert shown_to_reader("x", None) is None


# what `set attr` lets a value hold (no control character), and no separator of a URL
_word = st.text(st.characters(blacklist_characters="@/:\n\r\t ", blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")), min_size=1,
                max_size=20)


@given(user=_word, password=_word, host=_word)
def test_no_password_in_a_url_reaches_a_reader(user, password, host):
    shown = shown_to_reader("Some_Url", f"https://{user}:{password}@{host}/path")
    assert shown == f"https://{user}:{MASK}@{host}/path"


def test_a_name_is_secret_by_its_words_not_its_letters():
    from ksserver.outputs import is_secret

    for name in ("Kickstart_PrivateRootPassword", "rootpw", "ssh_keys", "bmc_password", "API_TOKEN", "ipmi-secret",
                 "Kickstart_PrivatePortableRootPassword", "grub_passwd", "luks.passphrase", "md5hash"):
        assert is_secret(name), name
    for name in ("Kickstart_Keyboard", "Kickstart_PublicHostname", "Dhcp_HostsDatabase", "keyboard", "Kickstart_Lang",
                 "x_queue", "ssh_port"):
        assert not is_secret(name), name
