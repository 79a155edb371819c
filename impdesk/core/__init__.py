"""impdesk.core: Qt-free domain logic (tree join, assignment rules, services)."""
