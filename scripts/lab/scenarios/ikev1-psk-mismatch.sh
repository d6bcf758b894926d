# IKEv1 Main Mode, different pre-shared keys: the initiator only times out in STATE_MAIN_I3.
IKE_VERSION=ikev1
east_secrets() { echo "@east @west : PSK \"$LAB_PSK_WRONG\""; }
