# The narrow link is between the gateways: a router (its own namespace, proxy ARP, so both gateways keep
# 192.0.2.0/24) whose link towards east has MTU 1400, and which drops the ICMP "fragmentation needed"
# it would send back, as many firewalls do. Both gateways' own interfaces are 1500: nothing in either
# capture shows the narrow link, only the user's pings do (big DF pings die, small ones pass).
KERNEL=guest
network_extra() {
    R="lr$ID"; EXTRA_NS="$R"
    ip netns add "$R"
    ip -n "$W" link del vw   # the direct pair goes; each gateway gets a pair to the router instead
    ip link add "vw$ID" type veth peer name "rw$ID"
    ip link set "vw$ID" netns "$W" name vw; ip link set "rw$ID" netns "$R" name rw
    ip link add "ve$ID" type veth peer name "re$ID"
    ip link set "ve$ID" netns "$E" name ve; ip link set "re$ID" netns "$R" name re
    ip -n "$W" addr add 192.0.2.1/24 dev vw; ip -n "$W" link set vw up
    ip -n "$E" addr add 192.0.2.2/24 dev ve; ip -n "$E" link set ve up
    ip -n "$W" route add 10.2.0.0/16 via 192.0.2.2 src 10.1.0.1
    ip -n "$E" route add 10.1.0.0/16 via 192.0.2.1 src 10.2.0.1
    ip -n "$R" link set lo up; ip -n "$R" link set rw up; ip -n "$R" link set re up
    ip -n "$R" link set re mtu 1400
    ip -n "$R" addr add 192.0.2.254/32 dev rw
    ip -n "$R" route add 192.0.2.1/32 dev rw
    ip -n "$R" route add 192.0.2.2/32 dev re
    ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
    ip netns exec "$R" sysctl -qw net.ipv4.conf.rw.proxy_arp=1
    ip netns exec "$R" sysctl -qw net.ipv4.conf.re.proxy_arp=1
    # The PMTU black hole: the router's own ICMP "fragmentation needed" never leaves it.
    ip netns exec "$R" iptables-legacy -A OUTPUT -p icmp --icmp-type fragmentation-needed -j DROP
}
after_up() {
    sleep 1
    west_pings 56 1000 1200 1300 1320 1330 1340 1350 1372 1400 1472
}
EXPECT_WEST="mtu-blackhole|packets transmitted"
EXPECT_PEER="mtu-blackhole|100% packet loss"
EXPECT_LIVE="none"
