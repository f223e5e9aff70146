#!/usr/bin/env bash
# module_suite.sh on p11-kit-proxy (docs/hsm.md).
CEREMONY_TEST_MODULE=p11-kit-proxy exec bash "$(dirname "$0")/module_suite.sh"
