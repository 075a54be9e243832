"""The broker's gRPC edge: `hookwire.v1` servicers, protobuf ⇄ domain conversion, the
status interceptor and service registration. The only broker package that imports
`hookwire.v1`; everything behind it speaks the domain (`broker.domain`)."""
