# The tunnel is up but west's inbound SA was deleted: its in policy's reqid has no SA, replies die.
KERNEL=guest
after_up() {
    sleep 1
    delete_west_sa 192.0.2.2 192.0.2.1
}
during_sampling() { west_pings 56; }
EXPECT_WEST="missing-sa|dir in"
EXPECT_PEER="missing-sa|reqid"
