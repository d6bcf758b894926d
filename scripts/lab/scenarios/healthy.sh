# A working IKEv2 PSK net-to-net tunnel with real ESP (user-mode Linux): no error expected.
KERNEL=uml
WEST_EXTRA="    retransmit-interval=10000"
EAST_EXTRA="    retransmit-interval=10000"
after_up() {
    sleep 1
    ping_test "$W" 10.1.0.1 10.2.0.1 56 1000 1300 > "$RUN/west/ping.txt"
}
EXPECT_WEST="none"
EXPECT_PEER="none"
EXPECT_EAST="none"
