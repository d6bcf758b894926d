# West also masquerades everything leaving vw, with no exemption for the tunnel's subnets.
KERNEL=guest
after_up() {
    sleep 1
    ip netns exec "$W" iptables-legacy -t nat -A POSTROUTING -o vw -j MASQUERADE
}
during_sampling() { west_pings 56; }
EXPECT_WEST="nat-before-ipsec|-j MASQUERADE"
EXPECT_PEER="nat-before-ipsec|MASQUERADE"
