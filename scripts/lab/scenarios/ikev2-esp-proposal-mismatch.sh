# IKEv2: the IKE SA is fine, the Child SA (ESP, phase 2) algorithms have no overlap.
WEST_EXTRA="    esp=aes256-sha2_512"
EAST_EXTRA="    esp=aes128-sha2_256"
EXPECT_WEST="esp-proposal-mismatch|rejected Child SA with NO_PROPOSAL_CHOSEN"
EXPECT_PEER="esp-proposal-mismatch|no local proposal matches remote proposals 1:ESP"
EXPECT_EAST="esp-proposal-mismatch|no local proposal matches remote proposals"
# The closed loop: compare's fix applied, the pair restarted (lab.sh fix_loop).
FIX_LOOP=yes
