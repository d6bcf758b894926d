# IKEv1 Main Mode, different pre-shared keys: the initiator only times out in STATE_MAIN_I3.
IKE_VERSION=ikev1
east_secrets() { echo "@east @west : PSK \"$LAB_PSK_WRONG\""; }
EXPECT_WEST="psk-mismatch|STATE_MAIN_I3"
EXPECT_PEER="psk-mismatch|mismatch of preshared secrets"
EXPECT_EAST="psk-mismatch|mismatch of preshared secrets"
