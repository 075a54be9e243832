"""What the tests share, one module per idea:

* `waiting`: `eventually` (in the test's event loop) and `eventually_sync` (blocking).
* `ports`: `free_port`, a loopback port a test can name before anything binds it.
* `receivers`: webhook receivers, `InLoopReceiver` (aiohttp, in-process tests) and
  `ThreadedReceiver` (threads, process tests).
* `in_process`: gRPC clients for an in-process broker (`Api`, `connect`), `expect_rpc_error`.
* `processes`: `hookwire serve` as a process group (`Hookwire`), and its `TestClock`.
* `inbound`: the inbound requests and resolved sources the verifier unit tests build.
"""
