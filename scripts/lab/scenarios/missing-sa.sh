# The tunnel is up but west's inbound SA was deleted: its in policy's reqid has no SA, replies die.
KERNEL=guest
after_up() {
    sleep 1
    local spi
    spi=$(ip netns exec "$W" ip xfrm state | awk '/^src 192.0.2.2 dst 192.0.2.1/{getline; print $4; exit}')
    ip netns exec "$W" ip xfrm state delete src 192.0.2.2 dst 192.0.2.1 proto esp spi "$spi"
}
during_sampling() { west_pings 56; }
EXPECT_WEST="missing-sa|dir in"
EXPECT_PEER="missing-sa|reqid"
