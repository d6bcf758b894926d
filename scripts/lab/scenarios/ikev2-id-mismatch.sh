# IKEv2: west identifies as @west but east expects @west-gw.
east_conn() { conn_body east | sed 's/rightid=@west/rightid=@west-gw/'; }
east_secrets() { echo "@east @west-gw : PSK \"$LAB_PSK\""; }
