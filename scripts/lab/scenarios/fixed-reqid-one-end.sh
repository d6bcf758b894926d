# Two subnet pairs (leftsubnets=) and reqid= on west only: west's two Child SAs share reqid 100, so its
# kernel sends both pairs' traffic over the newest SA; east keeps one reqid per pair and its inbound
# policy for the other pair does not take that SA.
KERNEL=guest
two_west_subnets
WEST_EXTRA="    reqid=100"
during_sampling() {
    { ping_test "$W" 10.1.0.1 10.2.0.1 56; ping_test "$W" 10.1.1.1 10.2.0.1 56; } > "$RUN/west/ping.txt"
}
EXPECT_WEST="shared-reqid|reqid=100"
EXPECT_PEER="shared-reqid|reqid=100"
# The closed loop: compare's fix applied, the pair restarted (lab.sh fix_loop).
FIX_LOOP=yes
