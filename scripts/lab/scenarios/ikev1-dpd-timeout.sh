# IKEv1 with DPD: the tunnel is up, then east stops answering; west's DPD declares it dead.
KERNEL=guest
IKE_VERSION=ikev1
WEST_EXTRA="    dpddelay=2\n    dpdtimeout=8\n    dpdaction=restart"
after_up() {
    sleep 1
    east_goes_silent
    sleep 20
}
EXPECT_WEST="dpd-timeout|DPD"
EXPECT_PEER="firewall-blocks-ike|-p esp -j DROP"
EXPECT_EAST="firewall-blocks-ike|--dport 500 -j DROP"
