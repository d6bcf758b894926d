# IKEv2: the IKE SA (phase 1) algorithms have no overlap.
WEST_EXTRA="    ike=aes256-sha2_512;dh20"
EAST_EXTRA="    ike=aes128-sha2_256;modp2048"
EXPECT_WEST="ike-proposal-mismatch|NO_PROPOSAL_CHOSEN"
EXPECT_PEER="ike-proposal-mismatch|no local proposal matches"
EXPECT_EAST="ike-proposal-mismatch|no local proposal matches"
# The closed loop: compare's fix applied, the pair restarted (lab.sh fix_loop).
FIX_LOOP=yes
