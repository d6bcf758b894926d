# IKEv1 Main Mode: no acceptable Oakley transform.
IKE_VERSION=ikev1
WEST_EXTRA="    ike=aes256-sha2_512;modp4096"
EAST_EXTRA="    ike=aes128-sha2_256;modp2048"
EXPECT_WEST="ike-proposal-mismatch|NO_PROPOSAL_CHOSEN"
EXPECT_PEER="ike-proposal-mismatch|no acceptable Oakley Transform"
EXPECT_EAST="ike-proposal-mismatch|no acceptable Oakley Transform"
# The closed loop: compare's fix applied, the pair restarted (lab.sh fix_loop).
FIX_LOOP=yes
