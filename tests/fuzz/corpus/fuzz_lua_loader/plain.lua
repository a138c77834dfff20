return {id = 'plain', steps = {{id = 'a', uses = 'core.noop', with = {}}}}
