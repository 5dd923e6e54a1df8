//! The simulated tenant: a local HTTP server speaking the Graph and portal subsets oathbulk
//! uses, with fault knobs. (Stub: being built.)
