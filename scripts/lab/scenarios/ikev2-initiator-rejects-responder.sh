# IKEv2: east (the responder) accepts west and establishes its IKE SA, but west expects east to be
# @east-gw and refuses east's identity: the end that accepted sees its IKE SA torn down by the peer.
west_conn() { conn_body west | sed 's/rightid=@east/rightid=@east-gw/'; }
west_secrets() { echo "@west @east-gw : PSK \"$LAB_PSK\""; echo "@west @east : PSK \"$LAB_PSK\""; }
KERNEL=guest
UP_SECONDS=30
EXPECT_WEST="id-mismatch|@east"
EXPECT_PEER="id-mismatch|@east"
EXPECT_EAST="peer-deletes-ike-sa|responder established IKE SA"
# The closed loop: compare's fix applied, the pair restarted (lab.sh fix_loop).
FIX_LOOP=yes
