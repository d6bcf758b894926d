# The tunnel is up, but a stray block policy in west's SPD discards the traffic (XfrmOutPolBlock rises).
KERNEL=guest
after_up() {
    sleep 1
    ip netns exec "$W" ip xfrm policy add src 10.1.0.1/32 dst 10.2.0.1/32 dir out action block priority 1
}
during_sampling() { west_pings 56; }
EXPECT_WEST="xfrm-counter|XfrmOutPolBlock"
EXPECT_PEER="xfrm-counter|XfrmOutPolBlock"
