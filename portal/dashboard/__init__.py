"""The home page: today's figures for the signed-in company."""
