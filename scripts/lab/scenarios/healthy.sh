# A working IKEv2 PSK net-to-net tunnel with real ESP (user-mode Linux): no error expected.
KERNEL=guest
after_up() {
    sleep 1
    west_pings 56 1000 1300
}
EXPECT_WEST="none"
EXPECT_PEER="none"
EXPECT_EAST="none"
