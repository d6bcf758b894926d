# A gateway pair with two connections: "office" works, "lab" has an ESP proposal mismatch.
# Findings must be grouped per connection, and the healthy one must stay clean.
KERNEL=guest
CONN=office
west_conn() {
    conn_body west; echo
    CONN=lab WEST_SUBNET=10.1.1.0/24 EAST_SUBNET=10.2.1.0/24 WEST_EXTRA="${WEST_EXTRA:+$WEST_EXTRA\n}    esp=aes256-sha2_512" conn_body west
}
east_conn() {
    conn_body east; echo
    CONN=lab WEST_SUBNET=10.1.1.0/24 EAST_SUBNET=10.2.1.0/24 EAST_EXTRA="${EAST_EXTRA:+$EAST_EXTRA\n}    esp=aes128-sha2_256" conn_body east
}
before_up() { ip -n "$W" addr add 10.1.1.1/24 dev lo; ip -n "$E" addr add 10.2.1.1/24 dev lo; }
after_up() {
    { echo "# ipsec whack --name lab --initiate"
      timeout 40 ip netns exec "$W" ipsec whack --ctlsocket "$(side_dir west)/run/pluto.ctl" --name lab --initiate 2>&1 || true
    } >> "$RUN/west/ipsec-up.txt"
    sleep 1
    west_pings 56
}
EXPECT_WEST="esp-proposal-mismatch|CREATE_CHILD_SA failed with error notification NO_PROPOSAL_CHOSEN"
EXPECT_PEER="esp-proposal-mismatch|no local proposal matches remote proposals 1:ESP"
EXPECT_EAST="esp-proposal-mismatch|no local proposal matches remote proposals 1:ESP"
# The closed loop: compare's fix applied, the pair restarted (lab.sh fix_loop).
FIX_LOOP=yes
