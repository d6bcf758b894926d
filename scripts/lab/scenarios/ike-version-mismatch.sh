# West is IKEv1-only, east is IKEv2-only.
west_conn() { IKE_VERSION=ikev1 conn_body west; }
east_conn() { IKE_VERSION=ikev2 conn_body east; }
# West alone sees only silence to its IKEv1 Main Mode: the version is named first, with the other causes.
EXPECT_WEST="ike-version-mismatch|STATE_MAIN_I1"
EXPECT_PEER="ike-version-mismatch|no connection has been authorized"
EXPECT_EAST="ike-version-mismatch|initial Main Mode message received"
# The closed loop: compare's fix applied, the pair restarted (lab.sh fix_loop).
FIX_LOOP=yes
