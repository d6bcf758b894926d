# Two subnet pairs (leftsubnets=) and a manually assigned reqid= on both ends: ipsec.conf(5) says a
# manual reqid is the same for every subnet pair, so both Child SAs and all their policies share it.
KERNEL=guest
two_west_subnets
WEST_EXTRA="    reqid=100"
EAST_EXTRA="    reqid=100"
during_sampling() {
    { ping_test "$W" 10.1.0.1 10.2.0.1 56; ping_test "$W" 10.1.1.1 10.2.0.1 56; } > "$RUN/west/ping.txt"
}
EXPECT_WEST="shared-reqid|reqid=100"
EXPECT_PEER="shared-reqid|reqid=100"
# The closed loop: compare's fix applied, the pair restarted (lab.sh fix_loop).
FIX_LOOP=yes
