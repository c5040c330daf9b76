"""Links between local entities and their copies at providers, with each link's sync state."""
