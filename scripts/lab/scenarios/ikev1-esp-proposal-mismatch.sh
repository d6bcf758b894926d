# IKEv1: Quick Mode ESP algorithms have no overlap.
IKE_VERSION=ikev1
UP_SECONDS=20
WEST_EXTRA="    phase2alg=aes256-sha2_512"
EAST_EXTRA="    phase2alg=aes128-sha2_256"
EXPECT_WEST="esp-proposal-mismatch|NO_PROPOSAL_CHOSEN"
EXPECT_PEER="esp-proposal-mismatch|no acceptable Proposal in IPsec SA"
EXPECT_EAST="esp-proposal-mismatch|no acceptable Proposal in IPsec SA"
# The closed loop: compare's fix applied, the pair restarted (lab.sh fix_loop).
FIX_LOOP=yes
