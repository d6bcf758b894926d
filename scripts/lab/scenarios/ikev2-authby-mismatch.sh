# IKEv2: west authenticates with a PSK, east only accepts AUTH_NULL.
east_conn() { conn_body east | sed 's/authby=secret/authby=null/'; }
