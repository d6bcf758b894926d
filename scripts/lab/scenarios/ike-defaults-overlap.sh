# IKEv2 with real ESP (user-mode Linux): west sets no ike=/esp= (Libreswan's defaults), east sets explicit
# proposals that are among the defaults: the tunnel comes up and carries traffic. No error expected.
KERNEL=guest
EAST_EXTRA="    ike=aes256-sha2_512;dh20\n    esp=aes128-sha2_256"
after_up() {
    sleep 1
    west_pings 56 1000
}
EXPECT_WEST="none"
EXPECT_PEER="none"
EXPECT_EAST="none"
