# A correct configuration on a kernel without ESP: east negotiates, the kernel refuses the SA.
EXPECT_WEST="ts-mismatch|TS_UNACCEPTABLE"
EXPECT_PEER="kernel-sa-install-failed|netlink response for Add SA"
EXPECT_EAST="kernel-sa-install-failed|errno 38"
