# A middlebox in front of east drops ESP packets above 1400 bytes without any ICMP: big packets vanish.
KERNEL=guest
after_up() {
    sleep 1
    ip netns exec "$E" iptables-legacy -A INPUT -p esp -m length --length 1401:65535 -j DROP
    west_pings 56 1000 1200 1300 1320 1330 1340 1350 1372 1400
}
EXPECT_WEST="mtu-blackhole|packets transmitted"
EXPECT_PEER="mtu-blackhole|100% packet loss"
# Live mode has no ping test of the user to go by, and the tunnel is up: nothing to report.
EXPECT_LIVE="none"
