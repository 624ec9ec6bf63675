"""A small YANG model with every built-in type our site model lacks (union, empty,
decimal64, bits, int64, binary, identities of two modules), for codec tests."""

from __future__ import annotations

from pathlib import Path

from agent.schema.engine import SchemaEngine

BASE = """
module ct-base {
  yang-version 1.1;
  namespace "urn:test:ct-base";
  prefix ctb;
  revision 2026-01-01 { description "Initial."; }
  identity tier { description "A service tier."; }
  identity gold { base tier; description "Gold."; }
  identity silver { base tier; description "Silver."; }
}
"""

DATA = """
module ct-data {
  yang-version 1.1;
  namespace "urn:test:ct-data";
  prefix ctd;
  import ct-base { prefix ctb; }
  revision 2026-01-01 { description "Initial."; }
  identity bronze { base ctb:tier; description "Bronze, defined here."; }
  container things {
    list thing {
      key "zone id";
      leaf id { type uint8; }
      leaf zone { type string; }
      leaf flag { type empty; }
      leaf ratio { type decimal64 { fraction-digits 2; } }
      leaf big { type int64; }
      leaf huge { type uint64; }
      leaf blob { type binary; }
      leaf on { type boolean; default "true"; }
      leaf mode { type enumeration { enum auto; enum manual; } default "auto"; }
      leaf perms {
        type bits { bit read { position 0; } bit write { position 1; } }
      }
      leaf tier { type identityref { base ctb:tier; } }
      leaf any {
        type union {
          type uint8;
          type enumeration { enum auto; }
          type identityref { base ctb:tier; }
        }
      }
      leaf tag { type union { type int8; type string; } }
      leaf-list levels { type int8; }
      leaf note { type string; }
      container stats {
        config false;
        leaf count { type uint64; }
      }
    }
  }
}
"""


def fixture_engine(directory: Path) -> SchemaEngine:
    """A SchemaEngine over the two fixture modules, written to ``directory``."""
    (directory / "ct-base.yang").write_text(BASE, encoding="utf-8")
    (directory / "ct-data.yang").write_text(DATA, encoding="utf-8")
    return SchemaEngine(directory)
