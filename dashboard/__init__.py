"""The Dash web app: pages, components and callbacks. Reads only db.queries and modeling results."""
