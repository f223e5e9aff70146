#!/usr/bin/env bash
# module_suite.sh on softhsm (docs/hsm.md).
CEREMONY_TEST_MODULE=softhsm exec bash "$(dirname "$0")/module_suite.sh"
