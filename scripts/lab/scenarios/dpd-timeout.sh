# The tunnel is up, then east stops answering (IKE dropped by a firewall): west's liveness check declares it dead.
KERNEL=uml
WEST_EXTRA="    retransmit-interval=10000\n    dpddelay=2\n    dpdtimeout=8\n    dpdaction=restart"
EAST_EXTRA="    retransmit-interval=10000"
after_up() {
    sleep 1
    ip netns exec "$E" iptables-legacy -A INPUT -p udp --dport 500 -j DROP
    ip netns exec "$E" iptables-legacy -A INPUT -p udp --dport 4500 -j DROP
    ip netns exec "$E" iptables-legacy -A INPUT -p esp -j DROP
    sleep 30
}
EXPECT_WEST="dpd-timeout|ESTABLISHED_IKE_SA"
EXPECT_PEER="dpd-timeout|ESTABLISHED_IKE_SA"
