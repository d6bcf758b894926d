# The tunnel is up, then east stops answering (IKE dropped by a firewall): west's liveness check declares it dead.
KERNEL=guest
WEST_EXTRA="    dpddelay=2\n    dpdtimeout=8\n    dpdaction=restart"
after_up() {
    sleep 1
    east_goes_silent
    sleep 30
}
EXPECT_WEST="dpd-timeout|ESTABLISHED_IKE_SA"
EXPECT_PEER="firewall-blocks-ike|--dport 500 -j DROP"
EXPECT_EAST="firewall-blocks-ike|--dport 500 -j DROP"
