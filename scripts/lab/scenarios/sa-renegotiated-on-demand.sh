# The tunnel is up; west's outbound SA disappears behind pluto's back. West's next packet to east finds
# the out policy without an SA: the kernel counts XfrmOutNoStates and asks pluto for one (ACQUIRE).
KERNEL=guest
MONITOR=yes
after_up() {
    sleep 1
    delete_west_sa 192.0.2.1 192.0.2.2
    west_pings 56
    sleep 3
}
during_sampling() { ping_test "$W" 10.1.0.1 10.2.0.1 56 >> "$RUN/west/ping.txt"; }
EXPECT_WEST="sa-vanished|No such process"
EXPECT_PEER="sa-vanished|No such process"
