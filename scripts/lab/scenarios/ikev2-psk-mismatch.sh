# IKEv2, authby=secret, the two ends hold different pre-shared keys.
east_secrets() { echo "@east @west : PSK \"$LAB_PSK_WRONG\""; }
EXPECT_WEST="psk-mismatch|AUTHENTICATION_FAILED"
EXPECT_PEER="psk-mismatch|computed hash does not match"
EXPECT_EAST="psk-mismatch|computed hash does not match"
