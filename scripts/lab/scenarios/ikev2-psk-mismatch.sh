# IKEv2, authby=secret, the two ends hold different pre-shared keys.
east_secrets() { echo "@east @west : PSK \"$LAB_PSK_WRONG\""; }
