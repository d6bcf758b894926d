# The PSK mismatch again, with plutodebug=all on both ends (as the distribution guides advise when a tunnel
# fails): the real failure lines sit among thousands of `| ` debug lines, which may hold key material and
# must never be evidence. Also the source of real debug lines for the journal-format tests.
config_setup() { echo "    plutodebug=all"; }
east_secrets() { echo "@east @west : PSK \"$LAB_PSK_WRONG\""; }
EXPECT_WEST="psk-mismatch|AUTHENTICATION_FAILED"
EXPECT_PEER="psk-mismatch|computed hash does not match"
EXPECT_EAST="psk-mismatch|computed hash does not match"
