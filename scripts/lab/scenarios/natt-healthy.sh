# West sits behind a NAT router (198.51.100.2 masqueraded to 192.0.2.1): Libreswan detects NAT and
# encapsulates ESP in UDP 4500 (NAT-T). A working tunnel: no error expected, and the NAT router's
# masquerade (on another host) must not be mistaken for nat-before-ipsec.
KERNEL=guest
network_extra() {
    R="lr$ID"; EXTRA_NS=$R
    ip netns add "$R"
    ip -n "$W" link del vw                      # replace the direct link with west -> router -> east
    ip -n "$E" link del ve 2>/dev/null || true
    ip link add "wr$ID" type veth peer name "rw$ID"
    ip link add "re$ID" type veth peer name "er$ID"
    ip link set "wr$ID" netns "$W" name vw; ip link set "rw$ID" netns "$R" name rw
    ip link set "re$ID" netns "$R" name re; ip link set "er$ID" netns "$E" name ve
    ip -n "$R" link set lo up; ip -n "$R" link set rw up; ip -n "$R" link set re up
    ip -n "$W" addr add 198.51.100.2/24 dev vw; ip -n "$W" link set vw up
    ip -n "$R" addr add 198.51.100.1/24 dev rw
    ip -n "$R" addr add 192.0.2.1/24 dev re
    ip -n "$E" addr add 192.0.2.2/24 dev ve; ip -n "$E" link set ve up
    ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
    ip netns exec "$R" iptables-legacy -t nat -A POSTROUTING -o re -j MASQUERADE
    ip -n "$W" route add default via 198.51.100.1
    ip -n "$W" route add 10.2.0.0/16 via 198.51.100.1 src 10.1.0.1
    ip -n "$E" route add 10.1.0.0/16 via 192.0.2.1 src 10.2.0.1
}
west_conn() { conn_body west | sed 's/left=192.0.2.1/left=198.51.100.2/'; }
after_up() {
    sleep 1
    west_pings 56 1000 1300
}
EXPECT_WEST="none"
EXPECT_PEER="none"
EXPECT_EAST="none"
