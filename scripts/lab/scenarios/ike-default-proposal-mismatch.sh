# IKEv2: west sets no ike= (Libreswan's default proposals: SHA2 PRFs only), east insists on SHA1: the
# defaults and the explicit proposal have nothing in common. Nothing in west's file says what it offers.
EAST_EXTRA="    ike=aes128-sha1;modp2048"
EXPECT_WEST="ike-proposal-mismatch|NO_PROPOSAL_CHOSEN"
EXPECT_PEER="ike-proposal-mismatch|no local proposal matches"
EXPECT_EAST="ike-proposal-mismatch|no local proposal matches"
# The closed loop: compare's fix applied, the pair restarted (lab.sh fix_loop).
FIX_LOOP=yes
