#!/usr/bin/env bash
# module_suite.sh on tpm2 (docs/hsm.md).
CEREMONY_TEST_MODULE=tpm2 exec bash "$(dirname "$0")/module_suite.sh"
