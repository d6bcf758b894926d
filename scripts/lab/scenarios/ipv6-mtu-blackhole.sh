# An IPv6 tunnel (fd01::/64 <-> fd02::/64 over 2001:db8::/64) whose path silently drops ESP packets above
# 1400 bytes: the MTU arithmetic of IPv6 (40-byte outer header, 48-byte ICMPv6 overhead, MSS = mtu - 60).
KERNEL=guest
CONN=v6net
network_extra() {
    ip -n "$W" addr add 2001:db8::1/64 dev vw nodad; ip -n "$E" addr add 2001:db8::2/64 dev ve nodad
    ip -n "$W" addr add fd01::1/64 dev lo nodad; ip -n "$E" addr add fd02::1/64 dev lo nodad
    ip -n "$W" route add fd02::/64 via 2001:db8::2 src fd01::1
    ip -n "$E" route add fd01::/64 via 2001:db8::1 src fd02::1
}
v6_conn() { # MY-ADDR MY-ID MY-SUBNET PEER-ADDR PEER-ID PEER-SUBNET
    cat <<CONF
conn v6net
    left=$1
    leftid=$2
    leftsubnet=$3
    right=$4
    rightid=$5
    rightsubnet=$6
    authby=secret
    ikev2=insist
    auto=add
    retransmit-timeout=10s
    retransmit-interval=10000
CONF
}
west_conn() { v6_conn 2001:db8::1 @west fd01::/64 2001:db8::2 @east fd02::/64; }
east_conn() { v6_conn 2001:db8::2 @east fd02::/64 2001:db8::1 @west fd01::/64; }
after_up() {
    sleep 1
    ip netns exec "$E" ip6tables-legacy -A INPUT -p esp -m length --length 1401:65535 -j DROP
    ping_test "$W" fd01::1 fd02::1 56 1000 1200 1250 1270 1280 1290 1300 1350 > "$RUN/west/ping.txt"
}
EXPECT_WEST="mtu-blackhole|packets transmitted"
EXPECT_PEER="mtu-blackhole|packets transmitted"
EXPECT_LIVE="none"
