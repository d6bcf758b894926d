# Two subnet pairs (leftsubnets=), two Child SAs, both established; then east loses its outbound policy
# for 10.1.1.0/24 (a script, a restart of another tool, a manual `ip xfrm policy delete`): its replies to
# that subnet leave in clear and west's inbound policy drops them. Pings from 10.1.0.1 pass, from
# 10.1.1.1 they die. Unlike the field report's failure, no SA carries the wrong subnet's traffic.
KERNEL=guest
two_west_subnets
after_up() {
    sleep 2
    ip netns exec "$E" ip xfrm policy delete src 10.2.0.0/24 dst 10.1.1.0/24 dir out
}
during_sampling() {
    { ping_test "$W" 10.1.0.1 10.2.0.1 56; ping_test "$W" 10.1.1.1 10.2.0.1 56; } > "$RUN/west/ping.txt"
}
EXPECT_WEST="replies-in-clear|inBytes=0"
EXPECT_PEER="missing-policy|rightsubnets="
